"""Every WEFT_API function of the public headers is reachable in weft.capi.

The headers (capi/include/weft/*.h, as the build ships them) are parsed for
`WEFT_API <type> weft_<name>(` declarations; each name must be a callable of
weft.capi, so a function added to the C API without a binding fails here
instead of being silently missing. Also checks that every status has its
weft.errors class.
"""
import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from weft import capi, errors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
HEADERS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "capi", "include", "weft"))
DECLARATION = re.compile(r"\bWEFT_API\s+[^;()]*?\b(weft_[a-z0-9_]+)\s*\(")


def declared_functions():
    names = set()
    for header in sorted(glob.glob(os.path.join(HEADERS, "*.h"))):
        with open(header, encoding="utf-8") as f:
            text = re.sub(r"/\*.*?\*/", " ", f.read(), flags=re.S)  # comments out
        names.update(DECLARATION.findall(text))
    return names


def test_the_headers_are_found_and_parsed():
    names = declared_functions()
    # A floor, so a broken parse (or moved headers) cannot pass as "nothing missing".
    assert len(names) >= 120, sorted(names)
    for expected in ("weft_runtime_create", "weft_executor_submit", "weft_udp_recv_from",
                     "weft_value_pointer", "weft_set_misuse_handler"):
        assert expected in names


def test_every_weft_api_function_is_reachable_in_weft_capi():
    missing = sorted(name for name in declared_functions()
                     if not callable(getattr(capi, name, None)))
    assert missing == [], "not in weft.capi: " + ", ".join(missing)


def test_every_status_has_its_exception_class():
    statuses = {name: getattr(capi, name) for name in dir(capi)
                if name.startswith("WEFT_ERR_")}
    assert len(statuses) >= 35
    for name, status in statuses.items():
        assert capi.weft_status_name(status) == name
        cls = errors.class_for_name(name)
        assert cls is not errors.Error and issubclass(cls, errors.Error), name
        error = errors.from_status(status)
        assert type(error) is cls and error.status == status and error.name == name
        assert error.message == capi.weft_status_str(status)
    assert errors.from_status(capi.WEFT_STATUS_USER - 5).__class__ is errors.ApplicationError
