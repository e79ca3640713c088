"""PASS/FAIL and info lines of the live suite, and its counts. Stdlib only."""

class Results:
    """PASS/FAIL lines, `info` lines of figures, and the counts for the final `N passed, N failed`."""

    def __init__(self):
        self.passed = self.failed = self.cases = 0

    def report(self, name, ok, detail=""):
        self.passed, self.failed = self.passed + bool(ok), self.failed + (not ok)
        print(f"{'PASS' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""), flush=True)

    @staticmethod
    def summary(result):
        lost = result["lost"]
        shown = "; ".join(f"{'/'.join(item[:3])} {item[3]} ({'+'.join(item[4])})" for item in lost[:8])
        other = [f for f in result["findings"] if not f.startswith("LOST event")]
        text = f"{len(lost)} events lost" + (f" [{shown}{' …' if len(lost) > 8 else ''}]" if lost else "")
        if other:
            text += f"; {len(other)} other findings [{' | '.join(other[:4])[:600]}]"
        return text

    @staticmethod
    def info(name, result, extra=""):
        numbers = ", ".join(f"{k} {v}" for k, v in result["figures"].items())
        print(f"info {name}: {numbers}{'; ' + extra if extra else ''}", flush=True)


results = Results()
