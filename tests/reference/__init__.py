"""Independent numpy oracles of the compiled kernels (``kinematics._kernels``): written
from the definitions, not from the kernels' algorithms, and used only by the tests."""
