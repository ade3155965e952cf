"""PyBullet harness and closed-loop scenarios, behind ``kinematics simulate``.

:mod:`~kinematics.sims.bullet` is the one boundary with PyBullet (nothing else in the
project imports it); :mod:`~kinematics.sims.simulate` runs the scenarios and
:mod:`~kinematics.sims.report` writes their metrics and report. Importing ``kinematics``
does not import this package; it never imports the command line.
"""
