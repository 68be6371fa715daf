"""header_tests: one C and two C++ translation units per public header,
each including only that header, compiled with warnings as errors."""

_STRICT = ["-Wall", "-Wextra", "-pedantic", "-Werror"]

_LANGS = {
    "c99": (".c", ["-std=c99"]),
    "cxx11": (".cc", ["-std=c++11"]),
    "cxx20": (".cc", ["-std=c++20"]),
}

def header_tests(headers):
    targets = []
    for header in headers:
        base = header.replace(".h", "").replace("/", "_")
        for lang, (ext, std) in _LANGS.items():
            name = "%s_%s" % (base, lang)
            src = name + ext
            native.genrule(
                name = name + "_src",
                outs = [src],
                # The TU declares one object after the include, so that a
                # header with no declarations is not an empty TU (pedantic).
                cmd = "printf '#include <weft/%s>\\nint weft_header_test_%s;\\n' > $@" % (header, name),
            )
            native.cc_library(
                name = name,
                srcs = [src],
                copts = std + _STRICT,
                deps = ["//capi:headers"],
            )
            targets.append(":" + name)

    # One test that depends on every TU: building it compiles them all.
    native.genrule(
        name = "headers_compile_src",
        outs = ["headers_compile.sh"],
        cmd = "printf '#!/bin/sh\\necho %d public headers compiled alone as C99, C++11 and C++20\\n' > $@" %
              len(headers),
    )
    native.sh_test(
        name = "headers_compile",
        size = "small",
        srcs = ["headers_compile.sh"],
        data = targets,
    )
