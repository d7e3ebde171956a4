"""Benchmark scenarios; each builds its data and prints one line per measurement."""

from __future__ import annotations

import time

from charter import demo
from charter.extensions import db


def home_page(app, timed) -> None:
    start = time.perf_counter()
    demo.load_demo()
    db.session.commit()
    print(f"demo data loaded in {(time.perf_counter() - start) * 1000:.0f} ms")
    client = app.test_client()

    def get_home():
        response = client.get("/")
        assert response.status_code == 200

    median, p95 = timed(get_home, repeat=50)
    print(f"GET / (demo data): median {median:.1f} ms, p95 {p95:.1f} ms")


ALL = [home_page]
