"""core_test: one Catch2 test binary for one source file of tests/core."""

def core_test(name, size = "small", tags = [], deps = []):
    native.cc_test(
        name = name,
        size = size,
        srcs = [name + ".cc"],
        tags = tags,
        deps = [
            "//core:weft",
            "//tests/core:counted",
            "//tests/core:manual_loop",
            "@catch2//:catch2_main",
        ] + deps,
    )
