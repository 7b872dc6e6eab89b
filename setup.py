"""Builds the compiled scoring core ``sqlrl._core`` from ``csrc/``.

Release build (default): ``-O3``.  Debug build with sanitizers::

    SQLRL_SANITIZE=1 pip install -e . --no-build-isolation
"""

from __future__ import annotations

import os
import sys
from glob import glob

from pybind11.setup_helpers import ParallelCompile, Pybind11Extension, build_ext
from setuptools import setup

ParallelCompile("SQLRL_BUILD_JOBS", default=0).install()

compile_args = ["-O3", "-fvisibility=hidden"]
link_args: list[str] = []
if sys.platform.startswith("linux"):
    link_args.append("-ldl")  # dlopen/dlsym (in libc itself from glibc 2.34): the SQLite reader binds at run time
if os.environ.get("SQLRL_SANITIZE"):
    san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g", "-O1"]
    compile_args = san
    link_args = [*link_args, "-fsanitize=address,undefined"]

ext = Pybind11Extension(
    "sqlrl._core",
    sorted(glob("csrc/*.cpp")),
    include_dirs=["csrc"],
    cxx_std=17,
    extra_compile_args=compile_args,
    extra_link_args=link_args,
)

setup(ext_modules=[ext], cmdclass={"build_ext": build_ext})
