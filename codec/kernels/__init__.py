"""The kernels: every hot loop of huffkit, and nothing else.

``reference`` holds them in numpy, ``compiled`` the same functions over the
C extension built from ``c/``; ``backend`` picks one at import (and when told
to).  The layers above call ``backend.kernels.<function>`` and never know which
runs.  Kernels import nothing of huffkit but its errors and its buffer types
(``_errors``, ``_buffers``): the constants they need live with them.
"""
