"""nox sessions: tests, lint, bench, demo. `nox -s tests` is what CI runs (through the README command)."""

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.default_venv_backend = "venv"  # plain pip: it takes torch from the local disk (see README)


@nox.session
def tests(session):
    session.install("-e", ".[dev,embed,train,browse,ray]")  # the README's test command
    session.run("pytest", "-q", *session.posargs)


@nox.session
def lint(session):
    session.install("ruff>=0.8")
    session.run("ruff", "check", "src", "tests", "noxfile.py")


@nox.session
def bench(session):
    """Figures, not pass/fail: build throughput vs bare decode+pHash, near-dup search scaling, peak RSS, rewards."""
    session.install("-e", ".[dev,embed,train]")
    n = session.posargs[0] if session.posargs else "5000"
    session.run("vero", "bench", "build", "--n", n)
    session.run("vero", "bench", "rewards")


@nox.session
def demo(session):
    session.install("-e", ".[embed]")
    session.run("vero", "data", "build", "--recipe", "demo", "--out", "demo-out", "--overwrite")
