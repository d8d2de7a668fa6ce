"""The README's production recipe does what it says: gunicorn listens beyond the host."""
import re
import shlex
import sys

from gunicorn.app.wsgiapp import WSGIApplication

from tests.test_hardening_config import ROOT


def gunicorn_bind(monkeypatch, command):
    """The addresses ``command`` makes gunicorn listen on (its config loaded, no app)."""
    monkeypatch.chdir(ROOT)  # the recipe names bench/gunicorn.conf.py from the project root
    monkeypatch.delenv("BENCH_BIND", raising=False)
    monkeypatch.setattr(sys, "argv", shlex.split(command))
    return WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").cfg.bind


def test_the_readme_runs_gunicorn_on_every_interface_behind_the_load_balancer(monkeypatch):
    section = (ROOT / "README.md").read_text().split("## Running at scale")[1].split("\n## ")[0]
    recipe = re.search(r"`(gunicorn [^`]+)`", section).group(1)
    assert gunicorn_bind(monkeypatch, recipe) == ["0.0.0.0:8000"]


def test_the_benchmark_config_alone_still_binds_the_loopback(monkeypatch):
    assert gunicorn_bind(monkeypatch, "gunicorn -c bench/gunicorn.conf.py wsgi:app") == [
        "127.0.0.1:8000"]
