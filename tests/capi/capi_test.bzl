"""capi_test: one cmocka binary for one file of tests/capi."""

def capi_test(name, shared = False, size = "small", tags = [], data = [], deps = []):
    """Builds `name`.c against the static library, and also against the
    shipped libweft.so.1 as `name`_shared when `shared` is set."""
    native.cc_test(
        name = name,
        size = size,
        srcs = [name + ".c"],
        copts = ["-D_POSIX_C_SOURCE=200809L", "-Werror"],
        tags = tags,
        data = data,
        deps = [":support", "//capi:weft_c", "@cmocka"] + deps,
    )
    if shared:
        native.cc_test(
            name = name + "_shared",
            size = size,
            srcs = [name + ".c"],
            tags = tags,
            data = data,
            deps = [":support", "//capi:weft_shared", "@cmocka"] + deps,
        )
