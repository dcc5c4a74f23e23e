"""A failed step's verdict as its pane shows it: what was expected and what came, in a few
short lines under the step's output (the header's red counter alone says only *that*
something failed, not what)."""

from __future__ import annotations

from zkshell.player.model import FAILED, OUTPUT_DIFFERS, TIMED_OUT, StepResult

FAILURE_MARK = "✗"
MAX_LINES = 3  # of each of expected and actual: the plain report has the whole text


def _shown(text: str, indent: str) -> list[str]:
    """At most MAX_LINES lines of `text`, continuation lines under the first one's text."""
    lines = text.strip("\n").split("\n") or [""]
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES - 1] + [f"… {len(lines) - MAX_LINES + 1} more lines"]
    return [lines[0]] + [indent + line for line in lines[1:]]


def verdict_text(result: StepResult) -> str:
    """`✗ expected: ...` then `  actual: ...` (or why nothing could be compared); "" for a
    step that did not fail."""
    if result.status not in (FAILED, TIMED_OUT):
        return ""
    step = result.step
    if step.expect is None:  # a session not running, a step that raised: the reason alone
        return f"{FAILURE_MARK} {result.message or result.status}"
    # An await looks for its text in what arrives unless it says otherwise: no "(contains)".
    awaited = step.kind == "await" and step.expect.kind == "contains"
    expected = _shown(step.expect.text if awaited else step.expect.describe(), " " * 12)
    lines = [f"{FAILURE_MARK} expected: {expected[0]}", *expected[1:]]
    if step.kind == "type" and result.message == OUTPUT_DIFFERS:
        actual = _shown(result.actual, " " * 12) if result.actual.strip() else ["(nothing)"]
        lines += [f"    actual: {actual[0]}", *actual[1:]]
    else:  # an await's actual is the whole recent window; or the step could not run
        lines.append(f"  {result.message or result.status}")
    return "\n".join(lines)
