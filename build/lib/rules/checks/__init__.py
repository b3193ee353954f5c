"""The check functions behind each control, one module per scope. A check returns None when
the state satisfies its control, or a one-line reason when it does not."""
