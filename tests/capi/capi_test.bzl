"""capi_test: one cmocka binary for one file of tests/capi."""

def capi_test(name, shared = False, size = "small", tags = [], data = [], deps = [], srcs = None):
    """Builds `name`.c (or `srcs`) against the static library, and also
    against the shipped libweft.so.1 as `name`_shared when `shared` is set."""
    srcs = srcs if srcs else [name + ".c"]
    native.cc_test(
        name = name,
        size = size,
        srcs = srcs,
        copts = ["-D_POSIX_C_SOURCE=200809L", "-Werror"],
        tags = tags,
        data = data,
        deps = [":support", "//capi:weft_c", "@cmocka"] + deps,
    )
    if shared:
        native.cc_test(
            name = name + "_shared",
            size = size,
            srcs = srcs,
            tags = tags,
            data = data,
            deps = [":support", "//capi:weft_shared", "@cmocka"] + deps,
        )
