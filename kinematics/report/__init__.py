"""Self-contained HTML reports (no argparse, no PyBullet: pictures come in as data).

- :mod:`~kinematics.report.page`: pieces every report shares (PNG figures, tables, the page,
  JSON conversion);
- :mod:`~kinematics.report.singularity`: the singularity analysis (``kinematics report``);
- :mod:`~kinematics.report.reach`: the reachability map (``kinematics reach``).

matplotlib is imported only when a figure is drawn.
"""

from .page import jsonable
from .reach import write_reach_report
from .singularity import ReportResult, default_trajectory, load_trajectory, make_report

__all__ = ["ReportResult", "default_trajectory", "jsonable", "load_trajectory", "make_report",
           "write_reach_report"]
