"""An error's code is the code its call returns.

The binding raises the exception of berth_error_code(err), so a library
call that returns one code while its error object carries another (a
registry's 401 with a challenge that does not parse: EINVAL to the parser,
EAUTH to the pull) would surface as the wrong exception.  The pull has no
binding yet, so it is called through ctypes on the same build of libberth
the module links, against a real HTTP server on 127.0.0.1.
"""
import ctypes
import http.server
import threading

import pytest

import berth


class _BadChallenge(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(401)
        # no scheme: bt_auth_challenge_parse refuses it with EINVAL
        self.send_header("WWW-Authenticate", "=realm")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class _CtxOpts(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("root", ctypes.c_char_p),
                ("runroot", ctypes.c_char_p)]


@pytest.fixture
def libberth(builddir):
    lib = ctypes.CDLL(str(builddir / "lib" / ".libs" / "libberth.so"))
    lib.berth_error_message.restype = ctypes.c_char_p
    lib.berth_error_code_name.restype = ctypes.c_char_p
    lib.berth_error_cause.restype = ctypes.c_void_p
    lib.berth_error_code.argtypes = [ctypes.c_void_p]
    lib.berth_error_message.argtypes = [ctypes.c_void_p]
    lib.berth_error_cause.argtypes = [ctypes.c_void_p]
    lib.berth_error_free.argtypes = [ctypes.c_void_p]
    lib.berth_ctx_free.argtypes = [ctypes.c_void_p]
    return lib


@pytest.fixture
def bad_registry():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BadChallenge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_pull_401_with_bad_challenge_is_eauth_in_the_error_too(libberth, bad_registry, tmp_path):
    ctx = ctypes.c_void_p()
    err = ctypes.c_void_p()
    # the head of berth_ctx_opts: an older caller's smaller struct is accepted
    opts = _CtxOpts(ctypes.sizeof(_CtxOpts), str(tmp_path / "root").encode(),
                    str(tmp_path / "run").encode())
    assert libberth.berth_ctx_new(ctypes.byref(ctx), ctypes.byref(opts), ctypes.byref(err)) == 0
    try:
        libberth.berth_error_free(err)
        rc = libberth.berth_image_pull(ctx, (bad_registry + "/berth-test/x:latest").encode(),
                                       None, None, ctypes.byref(err))
        code = libberth.berth_error_code(err)
        message = libberth.berth_error_message(err).decode()
        cause_codes = []
        link = libberth.berth_error_cause(err)
        while link:
            cause_codes.append(libberth.berth_error_code(link))
            link = libberth.berth_error_cause(link)
        libberth.berth_error_free(err)
    finally:
        libberth.berth_ctx_free(ctx)
    eauth = next(c for c in range(-1, -20, -1)
                 if libberth.berth_error_code_name(c) == b"EAUTH")
    assert "401" in message, message
    assert rc == eauth, (rc, message)
    # the bug: the error object kept the parser's EINVAL
    assert code == rc, (libberth.berth_error_code_name(code), message)
    # ... which the chain still shows underneath
    einval = next(c for c in range(-1, -20, -1)
                  if libberth.berth_error_code_name(c) == b"EINVAL")
    assert einval in cause_codes, cause_codes
    # and the binding's exception for that code is berth's auth error
    assert issubclass(berth.errors["EAUTH"], berth.Error)
