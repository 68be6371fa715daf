#!/bin/sh
echo "coverage tools are not available in weft's offline build" >&2
exit 1
