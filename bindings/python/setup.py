"""Builds the berth extension from the C files beside this one against an
installed libberth: pkg-config gives the flags and the version (set
PKG_CONFIG_PATH, or PKG_CONFIG_SYSROOT_DIR for a DESTDIR install)."""
import glob
import os
import shlex
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

here = os.path.dirname(os.path.abspath(__file__))


def pkg_config(*args):
    try:
        out = subprocess.run(["pkg-config", *args, "libberth"], check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit(f"pkg-config cannot find libberth ({e}); install libberth or set PKG_CONFIG_PATH")
    return out.stdout.strip()


flags = shlex.split(pkg_config("--cflags", "--libs"))


class build_ext_with_stub(build_ext):
    """Puts berth.pyi beside the built module (a single-module distribution
    has no package directory for py.typed)."""

    def run(self):
        super().run()
        self.copy_file(os.path.join(here, "berth.pyi"), os.path.join(self.build_lib, "berth.pyi"))


setup(
    version=pkg_config("--modversion"),
    py_modules=["_berth_objects"],
    ext_modules=[Extension(
        "berth",
        sources=sorted(os.path.relpath(p, here) for p in glob.glob(os.path.join(here, "*.c"))),
        include_dirs=[f[2:] for f in flags if f.startswith("-I")],
        library_dirs=[f[2:] for f in flags if f.startswith("-L")],
        libraries=[f[2:] for f in flags if f.startswith("-l")],
        runtime_library_dirs=[f[2:] for f in flags if f.startswith("-L")],
        extra_compile_args=["-fvisibility=hidden"],
    )],
    cmdclass={"build_ext": build_ext_with_stub},
)
