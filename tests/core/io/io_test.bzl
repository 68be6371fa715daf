"""io_test: one Catch2 test binary for one source file of tests/core/io."""

def io_test(name, size = "small", srcs = None, tags = [], deps = [], **kwargs):
    native.cc_test(
        name = name,
        size = size,
        srcs = srcs if srcs else [name + ".cc"],
        tags = tags,
        deps = [
            "//core:weft",
            "//tests/core/io:io_test_util",
            "@catch2//:catch2_main",
        ] + deps,
        **kwargs
    )
