"""io_test: one Catch2 test binary for one source file of tests/core/io,
depending on //core:io and the other layers it uses (`deps`)."""

def io_test(name, deps, size = "small", srcs = None, tags = [], **kwargs):
    native.cc_test(
        name = name,
        size = size,
        srcs = srcs if srcs else [name + ".cc"],
        tags = tags,
        deps = deps + [
            "//tests/core/io:io_test_util",
            "@catch2//:catch2_main",
        ],
        **kwargs
    )
