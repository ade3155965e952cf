"""PyBullet harness and closed-loop scenarios (``python -m sims.<scenario>``).

PyBullet is imported only here, never by :mod:`kinematics`.
"""
