"""opt_file: one file of a target built optimised (-c opt), whatever the
command line's compilation mode, copied under this rule's name.

`bazel run //:install` ships libweft.so.1 built this way, so the installed
library is optimised without the user passing -c opt, and a test can check
the same file. The copy gets its own path, so a runfiles tree may hold it
next to the default build's file of the same name."""

def _opt_transition_impl(settings, attr):
    return {"//command_line_option:compilation_mode": "opt"}

_opt_transition = transition(
    implementation = _opt_transition_impl,
    inputs = [],
    outputs = ["//command_line_option:compilation_mode"],
)

def _opt_file_impl(ctx):
    srcs = ctx.files.src
    if len(srcs) != 1:
        fail("opt_file: %s must give exactly one file, not %d" % (ctx.attr.src, len(srcs)))
    out = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.run_shell(
        inputs = srcs,
        outputs = [out],
        command = 'cp "$1" "$2"',
        arguments = [srcs[0].path, out.path],
        mnemonic = "OptCopy",
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

opt_file = rule(
    implementation = _opt_file_impl,
    attrs = {
        "src": attr.label(mandatory = True, cfg = _opt_transition),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)
