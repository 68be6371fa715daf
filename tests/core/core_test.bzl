"""core_test: one Catch2 test binary for one source file of tests/core,
depending on the //core layers it tests (`deps`), not on the umbrella."""

def core_test(name, deps, size = "small", tags = [], srcs = []):
    """`srcs`: more sources of the binary besides name + ".cc"."""
    native.cc_test(
        name = name,
        size = size,
        srcs = [name + ".cc"] + srcs,
        tags = tags,
        deps = deps + ["@catch2//:catch2_main"],
    )
