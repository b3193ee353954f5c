"""The command line: argument parsing (`main`), the commands that need no Pulumi CLI, and rendering
(report, graph). It wires the rooms together; nothing below imports it."""
