"""``make deploy-check``: run the production topology for real, use it as a shopper would, then break it.

``python -m deploy.check`` starts :class:`deploy.topology.Topology` (PostgreSQL, Redis and SeaweedFS S3
over TCP with passwords, gunicorn with production settings, an indexing worker, a photo-search worker,
celery beat), then:

* **smoke** — import a CSV with photos (``manage.py import_catalog``), wait for the workers to index it,
  open a product page (both sections, media from S3), run a shop-by-photo search through the API, place
  an order through the API;
* **configuration errors** — a wrong password in DATABASE_URL or REDIS_URL, a bucket that does not exist:
  each stops ``manage.py check`` with one line naming the variable;
* **faults**, while a shopper keeps loading pages (every answer is recorded: a 503 or a clear page is
  fine, a 500 or a traceback is counted):

  - ``worker_kill``: kill -9 the indexing worker while it indexes a fresh import, start it again;
  - ``postgres_restart``: restart PostgreSQL while pages are served and orders placed;
  - ``redis_restart``: restart Redis while photo searches wait in the queue;
  - ``s3_outage``: stop SeaweedFS for 30 s while shoppers upload photos, start it again.

Human-readable lines go first; the last line on stdout is the one JSON object the project is measured by::

    {"smoke": "ok", "faults": {"worker_kill": {"recovered_s": 81.2, "lost": 0, "duplicated": 0, "tracebacks": 0}, ...}}

``recovered_s`` runs from the moment the dependency is back (or the worker restarted) until the system is
whole: pages and /healthz answer 200 and the work the fault interrupted is done. ``lost``: work accepted
and never done (products not indexed, searches not finished, orders answered 201 but missing, rows
half-saved by a failed upload). ``duplicated``: work done twice (a product's vector committed twice, a
search started twice, an order stored without the shopper being told). ``tracebacks``: shopper answers
that were a 500 or showed a traceback. Details go to ``report.json`` in the run's folder.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from deploy.topology import ROOT, Topology, TopologyError, wait_until

DATASETS = ROOT.parent / "shared" / "datasets"
CATALOG = DATASETS / "clothing-small" / "train"
STREET = DATASETS / "ccp" / "photos"
# The smoke import: tops, bottoms, a dress and a jacket, so both sections of every page have candidates.
SMOKE_CLASSES = ["t-shirt", "t-shirt", "shirt", "pants", "pants", "skirt", "dress", "outwear"]
FAULT_CLASSES = ["longsleeve", "shorts", "t-shirt", "pants", "shirt", "skirt"]
PROXY = {"X-Forwarded-Proto": "https"}  # the TLS-terminating proxy in front of gunicorn
S3_OUTAGE_SECONDS = 30


def say(message: str) -> None:
    print(f"[deploy-check {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- what a shopper sees ------------------------------------------------------------------------------


@dataclass
class Answer:
    started: float
    ended: float
    what: str
    status: int  # 0: no answer at all (connection refused or timed out)
    traceback: bool


@dataclass
class Shopper:
    """Loads pages (and /healthz) in a loop on a thread, recording every answer."""

    base: str
    paths: list[str]
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _one(self, session: requests.Session, what: str, path: str) -> None:
        started = time.monotonic()
        try:
            response = session.get(self.base + path, headers=PROXY, timeout=15, allow_redirects=False)
            status, text = response.status_code, response.text
        except requests.RequestException:
            status, text = 0, ""
        self.answers.append(Answer(started, time.monotonic(), what, status, shows_traceback(status, text)))

    def _run(self) -> None:
        session = requests.Session()
        n = 0
        while not self._stop.is_set():
            self._one(session, "page", self.paths[n % len(self.paths)])
            self._one(session, "healthz", "/healthz")
            n += 1
            time.sleep(0.2)

    def __enter__(self) -> Shopper:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def since(self, moment: float) -> list[Answer]:
        return [a for a in self.answers if a.started >= moment]

    def whole_since(self, moment: float) -> float | None:
        """The first time after ``moment`` from which every page and /healthz answered 200 (None: never)."""
        after = sorted(self.since(moment), key=lambda a: a.started)
        bad = [a for a in after if a.status != 200]
        if not after or (bad and bad[-1] is after[-1]):
            return None
        if not bad:
            return after[0].ended
        return next(a.ended for a in after if a.started > bad[-1].started)

    def summary(self, moment: float) -> dict:
        counts: dict[str, int] = {}
        for answer in self.since(moment):
            key = f"{answer.what} {answer.status or 'no answer'}"
            counts[key] = counts.get(key, 0) + 1
        return counts

    def tracebacks(self, moment: float) -> int:
        return sum(a.traceback for a in self.since(moment))


def shows_traceback(status: int, text: str) -> bool:
    """A shopper saw a bug: a 500 (or any 5xx but the 503 of a dependency outage), or a traceback in the body."""
    return (status >= 500 and status != 503) or "Traceback (most recent call last)" in text or "Exception Value" in text


# --- the shop, through its front door ----------------------------------------------------------------


class Shop:
    def __init__(self, topology: Topology):
        self.t = topology
        self.session = requests.Session()
        self.session.headers.update(PROXY)
        self.token = ""

    def url(self, path: str) -> str:
        return self.t.web_url + path

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Token {self.token}"} if self.token else {}
        return self.session.request(method, self.url("/api/v1" + path), headers=headers, timeout=30, **kwargs)

    def sign_up(self) -> None:
        response = self.api(
            "POST",
            "/auth/signup/",
            json={"username": "deploy-shopper", "email": "shopper@example.com", "password": "a-Long-unusual-pass-92"},
        )
        response.raise_for_status()
        self.token = response.json()["token"]

    def photo_search_upload(self, photo: Path) -> requests.Response:
        with photo.open("rb") as fh:
            return self.api("POST", "/photo-searches/", files={"photo": (photo.name, fh, "image/jpeg")})

    def photo_search(self, search_id: str) -> dict:
        return self.api("GET", f"/photo-searches/{search_id}/").json()

    def order(self, product_id: int) -> requests.Response:
        added = self.api("POST", "/cart/", json={"product": product_id, "quantity": 1})
        if added.status_code >= 300:
            return added
        return self.api("POST", "/orders/", json={"shipping_name": "Deploy Check", "shipping_address": "1 Main St"})


def write_csv(path: Path, classes: list[str], prefix: str, offset: int = 0) -> list[str]:
    """A catalog CSV (the import's columns, 100 in stock each) with photos from clothing-small; returns the SKUs."""
    per_class: dict[str, int] = {}
    skus = []
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["sku", "name", "brand", "price", "category", "image", "description", "stock"])
        for n, category in enumerate(classes, start=1):
            index = offset + per_class.get(category, 0)
            per_class[category] = per_class.get(category, 0) + 1
            photo = sorted((CATALOG / category).glob("*.jpg"))[index]
            sku = f"{prefix}-{n:03d}"
            skus.append(sku)
            writer.writerow(
                [
                    sku,
                    f"{category.title()} {n}",
                    "Deploy",
                    f"{20 + n}.00",
                    category,
                    str(photo),
                    "From the deploy check.",
                    "100",  # one "One size" variant with 100 in stock
                ]
            )
    return skus


# --- the run ------------------------------------------------------------------------------------------


class Check:
    def __init__(self, topology: Topology):
        self.t = topology
        self.shop = Shop(topology)
        self.report: dict = {"smoke": {}, "configuration_errors": {}, "faults": {}}

    # smoke ---------------------------------------------------------------------------------------
    def import_catalog(self, classes: list[str], prefix: str, offset: int = 0) -> list[str]:
        path = self.t.dir / f"{prefix.lower()}.csv"
        skus = write_csv(path, classes, prefix, offset)
        result = self.t.manage("import_catalog", str(path), "--no-progress")
        say(f"import_catalog {path.name}: {result.stdout.strip().splitlines()[-1]}")
        return skus

    def indexed(self, skus: list[str]) -> int:
        rows = self.t.sql(
            """SELECT count(*) FROM shop_product p JOIN recommender_garmentvector g ON g.product_id = p.id
               WHERE p.sku = ANY(%s) AND g.status = 'indexed' AND p.image_status = 'ready'""",
            [skus],
        )
        return rows[0][0]

    def wait_indexed(self, skus: list[str], timeout: float) -> float:
        started = time.monotonic()
        wait_until(lambda: self.indexed(skus) == len(skus), timeout=timeout, what="indexing", interval=0.5)
        return time.monotonic() - started

    def product_page(self, sku: str) -> dict:
        slug = self.t.sql("SELECT slug FROM shop_product WHERE sku = %s", [sku])[0][0]
        response = self.shop.session.get(self.shop.url(f"/products/{slug}/"), timeout=30)
        html = response.text
        sections = {}
        for name in ("complete-the-look", "similar-items"):
            match = re.search(rf'data-section="{name}">(.*?)</section>', html, re.S)
            sections[name] = len(re.findall(r'class="product-link"|class="look', match.group(1))) if match else 0
        media = re.findall(r'<img src="([^"]+)"', html)
        s3_media = [url.replace("&amp;", "&") for url in media if url.startswith(f"{self.t.s3_url}/")]
        fetched = requests.get(s3_media[0], timeout=10) if s3_media else None
        return {
            "status": response.status_code,
            "sections": sections,
            "images": len(media),
            "images_on_s3": len(s3_media),
            "s3_image_fetch": fetched.status_code if fetched is not None else None,
            "s3_image_type": fetched.headers.get("Content-Type") if fetched is not None else None,
        }

    def wait_photo_searches(self, ids: list[str], timeout: float) -> dict[str, dict]:
        deadline = time.monotonic() + timeout
        results: dict[str, dict] = {}
        while time.monotonic() < deadline and len(results) < len(ids):
            for search_id in ids:
                if search_id in results:
                    continue
                try:
                    body = self.shop.photo_search(search_id)
                except (requests.RequestException, ValueError):
                    continue
                if body.get("status") in ("done", "failed"):
                    results[search_id] = body
            time.sleep(0.5)
        return results

    def smoke(self) -> bool:
        steps = self.report["smoke"]
        started = time.monotonic()
        skus = self.import_catalog(SMOKE_CLASSES, "SMOKE")
        steps["imported"] = len(skus)
        steps["indexing_s"] = round(self.wait_indexed(skus, timeout=420), 1)
        say(f"smoke: {len(skus)} products indexed by the indexing worker in {steps['indexing_s']} s")
        self.smoke_skus = skus
        page = self.product_page(skus[0])
        steps["product_page"] = page
        say(f"smoke: product page {page}")
        self.shop.sign_up()
        photo = sorted(STREET.glob("*.jpg"))[0]
        upload = self.shop.photo_search_upload(photo)
        steps["photo_search_upload"] = upload.status_code
        search_id = upload.json().get("id") if upload.status_code == 202 else None
        results = self.wait_photo_searches([search_id], timeout=240) if search_id else {}
        body = results.get(search_id, {}) if search_id else {}
        found = sum(len(g.get("similar", [])) + len(g.get("complements", [])) for g in body.get("garments", []))
        steps["photo_search"] = {
            "status": body.get("status"),
            "garments": len(body.get("garments", [])),
            "items": found,
        }
        say(f"smoke: photo search {steps['photo_search']}")
        product_id = self.t.sql("SELECT id FROM shop_product WHERE sku = %s", [skus[0]])[0][0]
        order = self.shop.order(product_id)
        number = order.json().get("number") if order.status_code == 201 else None
        stored = self.t.sql("SELECT count(*) FROM shop_order WHERE number = %s", [number])[0][0] if number else 0
        steps["order"] = {"status": order.status_code, "number": number, "stored": stored}
        say(f"smoke: order {steps['order']}")
        steps["seconds"] = round(time.monotonic() - started, 1)
        ok = (
            page["status"] == 200
            and page["sections"]["complete-the-look"] > 0
            and page["sections"]["similar-items"] > 0
            and page["images_on_s3"] > 0
            and page["s3_image_fetch"] == 200
            and steps["photo_search"]["status"] == "done"
            and steps["photo_search"]["items"] > 0
            and stored == 1
        )
        steps["ok"] = ok
        return ok

    # configuration errors -----------------------------------------------------------------------------
    def check_deploy(self) -> None:
        """Django's deployment checklist on the settings and variables this topology runs with."""
        result = self.t.manage("check", "--deploy", "--fail-level", "WARNING")
        self.report["check_deploy"] = result.stdout.strip().splitlines()[-1]
        say(f"manage.py check --deploy: {self.report['check_deploy']}")

    def configuration_errors(self) -> None:
        wrong = {
            "DATABASE_URL": {"DATABASE_URL": self.t.database_url.replace(self.t.passwords["shop"], "wrong-password")},
            "REDIS_URL": {"REDIS_URL": self.t.redis_url.replace(self.t.passwords["redis"], "wrong-password")},
            "AWS_STORAGE_BUCKET_NAME": {"AWS_STORAGE_BUCKET_NAME": "no-such-bucket"},
        }
        for variable, override in wrong.items():
            import subprocess

            result = subprocess.run(
                [sys.executable, "manage.py", "check"],
                cwd=ROOT,
                env=self.t.app_env(**override),
                capture_output=True,
                text=True,
                timeout=120,
            )
            lines = [line for line in result.stderr.splitlines() if line.strip()]
            one_line = (
                result.returncode != 0
                and len(lines) == 1
                and lines[0].startswith(f"Configuration error: {variable}")
                and "Traceback" not in result.stderr
            )
            self.report["configuration_errors"][variable] = {"one_clear_line": one_line, "stderr": lines[-3:]}
            say(f"wrong {variable}: {'; '.join(lines[-3:])}")

    # faults ---------------------------------------------------------------------------------------------
    def _fault(
        self, name: str, *, back: float, whole: float | None, lost: int, duplicated: int, tracebacks: int, **details
    ) -> None:
        recovered = round(whole - back, 1) if whole is not None else None
        self.report["faults"][name] = {
            "recovered_s": recovered,
            "lost": lost,
            "duplicated": duplicated,
            "tracebacks": tracebacks,
            "details": details,
        }
        say(
            f"{name}: recovered in {recovered} s, lost {lost}, duplicated {duplicated}, tracebacks {tracebacks}; {details}"
        )

    def _pages(self) -> list[str]:
        slugs = [
            row[0]
            for row in self.t.sql("SELECT slug FROM shop_product WHERE sku = ANY(%s) ORDER BY sku", [self.smoke_skus])
        ]
        return ["/", "/products/"] + [f"/products/{slug}/" for slug in slugs[:4]]

    def worker_kill(self, shopper: Shopper) -> None:
        # Every commit of a product's vector is logged by the check (not by the app): done twice = logged twice.
        self.t.sql(
            """CREATE TABLE deploy_check_indexed (product_id bigint, at timestamptz DEFAULT clock_timestamp());
               CREATE FUNCTION deploy_check_indexed() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
               BEGIN
                 IF NEW.indexed_at IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.indexed_at IS DISTINCT FROM OLD.indexed_at) THEN
                   INSERT INTO deploy_check_indexed (product_id) VALUES (NEW.product_id);
                 END IF;
                 RETURN NULL;
               END $$;
               CREATE TRIGGER deploy_check_indexed AFTER INSERT OR UPDATE ON recommender_garmentvector
                 FOR EACH ROW EXECUTE FUNCTION deploy_check_indexed();""",
            superuser=True,
        )
        worker = self.t.processes["indexing"]
        # The worker holds off the queue while the batch is imported, so the kill lands mid-batch however
        # fast the import and the indexing run.
        self.t.indexing_hold(True, ["indexing"])
        skus = self.import_catalog(FAULT_CLASSES, "KILL", offset=5)
        self.t.indexing_hold(False, ["indexing"])

        def mid_batch() -> bool:
            rows = self.t.sql(
                """SELECT count(*) FILTER (WHERE g.status = 'indexed'), count(*) FILTER (WHERE g.attempts > 0 AND g.status <> 'indexed')
                   FROM shop_product p JOIN recommender_garmentvector g ON g.product_id = p.id WHERE p.sku = ANY(%s)""",
                [skus],
            )
            return rows[0][1] > 0 and rows[0][0] < len(skus)

        wait_until(mid_batch, timeout=240, what="indexing worker busy with the batch", interval=0.05)
        before = self.indexed(skus)
        worker.kill()
        killed_at = time.monotonic()
        say(f"worker_kill: kill -9 the indexing worker with {before}/{len(skus)} of the batch indexed")
        time.sleep(1)
        self.t.worker_start("indexing")
        back = time.monotonic()
        say(f"worker_kill: indexing worker restarted {back - killed_at:.1f} s after the kill")
        try:
            self.wait_indexed(skus, timeout=240)
        except TopologyError:
            pass
        done_at = time.monotonic()
        indexed = self.indexed(skus)
        commits = self.t.sql(
            """SELECT p.sku, count(l.product_id) FROM shop_product p LEFT JOIN deploy_check_indexed l ON l.product_id = p.id
               WHERE p.sku = ANY(%s) GROUP BY p.sku""",
            [skus],
            superuser=True,
        )
        duplicated = sum(1 for _, n in commits if n > 1)
        whole = max(done_at, shopper.whole_since(back) or done_at) if indexed == len(skus) else None
        self._fault(
            "worker_kill",
            back=back,
            whole=whole,
            lost=len(skus) - indexed,
            duplicated=duplicated,
            tracebacks=shopper.tracebacks(killed_at),
            indexed_before_kill=before,
            commits_per_product=dict(commits),
            answers=shopper.summary(killed_at),
        )

    def _orders_during(self, product_id: int, stop: threading.Event, answered: list[tuple[int, str | None]]) -> None:
        shop = Shop(self.t)
        shop.token = self.shop.token
        while not stop.is_set():
            try:
                response = shop.order(product_id)
                number = response.json().get("number") if response.status_code == 201 else None
                answered.append((response.status_code, number))
                if shows_traceback(response.status_code, response.text):
                    answered.append((-1, None))
            except (requests.RequestException, ValueError):
                answered.append((0, None))
            time.sleep(0.3)

    def _restart(self, process: str, sig: int, start, shopper: Shopper, *, name: str, note: str):
        """Stop a server, start it again 3 s later, and wait until pages are whole again: returns when it
        went down, when it was back, and when shoppers were served again (the ``wait_until`` clock)."""
        fault = f"{process}_restart"
        down_at = time.monotonic()
        self.t.processes[process].stop(sig)
        say(f"{fault}: {name} {note}")
        time.sleep(3)
        start()
        back = time.monotonic()
        say(f"{fault}: {name} answering again after {back - down_at:.1f} s")
        whole = wait_until(
            lambda: shopper.whole_since(back) if time.monotonic() - back > 3 else None,
            timeout=60,
            what=f"pages after the {name} restart",
            interval=0.2,
        )
        return down_at, back, whole

    def postgres_restart(self, shopper: Shopper) -> None:
        product_id = self.t.sql("SELECT id FROM shop_product WHERE sku = %s", [self.smoke_skus[1]])[0][0]
        orders_before = {row[0] for row in self.t.sql("SELECT number FROM shop_order")}
        stop = threading.Event()
        answered: list[tuple[int, str | None]] = []
        orders = threading.Thread(target=self._orders_during, args=(product_id, stop, answered), daemon=True)
        orders.start()
        time.sleep(2)
        # SIGINT: PostgreSQL's fast shutdown, what a restart does.
        down_at, back, whole = self._restart(
            "postgres", signal.SIGINT, self.t.postgres_start, shopper, name="PostgreSQL", note="stopped"
        )
        time.sleep(2)
        stop.set()
        orders.join(timeout=30)
        stored = {row[0] for row in self.t.sql("SELECT number FROM shop_order")} - orders_before
        confirmed = {number for status, number in answered if status == 201}
        self._fault(
            "postgres_restart",
            back=back,
            whole=whole,
            lost=len(confirmed - stored),
            duplicated=len(stored - confirmed),
            tracebacks=shopper.tracebacks(down_at) + sum(1 for status, _ in answered if status == -1),
            serving_again_s=round(whole - back, 1),
            orders={"confirmed": len(confirmed), "stored": len(stored), "answers": _count(s for s, _ in answered)},
            answers=shopper.summary(down_at),
        )

    def redis_restart(self, shopper: Shopper) -> None:
        photos = sorted(STREET.glob("*.jpg"))[1:4]
        ids = []
        for photo in photos:
            response = self.shop.photo_search_upload(photo)
            if response.status_code == 202:
                ids.append(response.json()["id"])
        queued = self.t.sql(
            "SELECT count(*) FROM recommender_photosearch WHERE id::text = ANY(%s) AND status = 'queued'", [ids]
        )[0][0]
        down_at, back, serving = self._restart(
            "redis",
            signal.SIGTERM,
            self.t.redis_start,
            shopper,
            name="Redis",
            note=f"stopped with {queued} of {len(ids)} photo searches waiting in the queue",
        )
        results = self.wait_photo_searches(ids, timeout=240)
        done_at = time.monotonic()
        attempts = dict(
            self.t.sql("SELECT id::text, attempts FROM recommender_photosearch WHERE id::text = ANY(%s)", [ids])
        )
        done = [i for i, body in results.items() if body.get("status") == "done"]
        self._fault(
            "redis_restart",
            back=back,
            whole=max(serving, done_at) if len(done) == len(ids) else None,
            lost=len(ids) - len(done),
            duplicated=sum(1 for n in attempts.values() if n > 1),
            tracebacks=shopper.tracebacks(down_at),
            serving_again_s=round(serving - back, 1),
            searches={
                "submitted": len(ids),
                "queued_at_restart": queued,
                "done": len(done),
                "attempts": sorted(attempts.values()),
            },
            answers=shopper.summary(down_at),
        )

    def s3_outage(self, shopper: Shopper) -> None:
        def rows() -> tuple[int, int]:
            return self.t.sql(
                "SELECT (SELECT count(*) FROM recommender_outfitphoto WHERE source = 'customer'), (SELECT count(*) FROM recommender_photosearch)"
            )[0]

        photo = sorted(STREET.glob("*.jpg"))[4]
        rows_before = rows()
        down_at = time.monotonic()
        self.t.processes["seaweedfs"].stop(signal.SIGTERM)
        say(f"s3_outage: SeaweedFS stopped for {S3_OUTAGE_SECONDS} s; shoppers keep uploading")
        during: list[dict] = []
        while time.monotonic() - down_at < S3_OUTAGE_SECONDS:
            response = self.shop.photo_search_upload(photo)
            error = (
                response.json().get("error", {})
                if response.headers.get("Content-Type", "").startswith("application/json")
                else {}
            )
            during.append(
                {
                    "status": response.status_code,
                    "code": error.get("code"),
                    "message": error.get("message"),
                    "traceback": shows_traceback(response.status_code, response.text),
                }
            )
            time.sleep(max(0.0, min(2.0, S3_OUTAGE_SECONDS - (time.monotonic() - down_at))))
        half_saved = [a - b for a, b in zip(rows(), rows_before, strict=True)]
        accepted_during = sum(1 for d in during if d["status"] == 202)
        self.t.seaweed_start(wait_for_writes=False)  # back = its S3 port answers again; the rest is recovery
        back = time.monotonic()
        say(f"s3_outage: SeaweedFS listening again after {back - down_at:.1f} s; retrying the upload every second")
        retry_ok_at, search_id = None, None
        while time.monotonic() - back < 90:
            response = self.shop.photo_search_upload(photo)
            if response.status_code == 202:
                retry_ok_at, search_id = time.monotonic(), response.json()["id"]
                break
            time.sleep(1)
        results = self.wait_photo_searches([search_id], timeout=240) if search_id else {}
        retried = results.get(search_id, {}) if search_id else {}
        finished = retried.get("status") == "done"
        serving = shopper.whole_since(back) or time.monotonic()
        self._fault(
            "s3_outage",
            back=back,
            whole=max(serving, retry_ok_at) if retry_ok_at else None,
            lost=sum(half_saved) + accepted_during + (0 if finished else 1),
            duplicated=0,
            tracebacks=shopper.tracebacks(down_at) + sum(d["traceback"] for d in during),
            retry_succeeded_after_s=round(retry_ok_at - back, 1) if retry_ok_at else None,
            uploads_during_outage=_count(d["status"] for d in during),
            message_during_outage=next((d["message"] for d in during if d["message"]), None),
            half_saved_rows=sum(half_saved),
            retried_search=retried.get("status"),
            answers=shopper.summary(down_at),
        )

    def faults(self) -> None:
        with Shopper(self.t.web_url, self._pages()) as shopper:
            for fault in (self.worker_kill, self.postgres_restart, self.redis_restart, self.s3_outage):
                try:
                    fault(shopper)
                except Exception as exc:  # noqa: BLE001 - one fault's failure is reported, the others still run
                    say(f"{fault.__name__}: the check itself failed: {type(exc).__name__}: {exc}")
                    self.report["faults"][fault.__name__] = {
                        "recovered_s": None,
                        "lost": None,
                        "duplicated": None,
                        "tracebacks": None,
                        "details": {"error": str(exc)},
                    }


def _count(values) -> dict:
    counts: dict = {}
    for value in values:
        counts[str(value)] = counts.get(str(value), 0) + 1
    return counts


FAULTS = ("worker_kill", "postgres_restart", "redis_restart", "s3_outage")


def result_line(report: dict, smoke_ok: bool) -> str:
    faults = {
        name: {
            key: report["faults"].get(name, {}).get(key) for key in ("recovered_s", "lost", "duplicated", "tracebacks")
        }
        for name in FAULTS
    }
    return json.dumps({"smoke": "ok" if smoke_ok else "failed", "faults": faults})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="Leave the run's folder (logs, data) in place.")
    args = parser.parse_args(argv)
    # Stopped from outside (CI's timeout, Ctrl-C): still stop every server this run started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    topology = Topology(log=say)
    check = Check(topology)
    smoke_ok = False
    started = time.monotonic()
    try:
        topology.start()
        smoke_ok = check.smoke()
        check.check_deploy()
        check.configuration_errors()
        check.faults()
    except Exception as exc:  # noqa: BLE001 - the JSON line is printed whatever happened
        say(f"the check stopped: {type(exc).__name__}: {exc}")
        for name, process in topology.processes.items():
            say(f"--- {name} log ---\n{process.log_tail(15)}")
    finally:
        topology.stop()
        check.report["seconds"] = round(time.monotonic() - started, 1)
        (topology.dir / "report.json").write_text(json.dumps(check.report, indent=2, default=str))
        say(f"details: {topology.dir / 'report.json'} ({check.report['seconds']} s in all)")
        if not args.keep:
            import shutil

            for name in ("postgres", "redis", "seaweedfs"):
                shutil.rmtree(topology.dir / name, ignore_errors=True)
    print(result_line(check.report, smoke_ok), flush=True)
    return 0 if smoke_ok else 1


if __name__ == "__main__":
    sys.exit(main())
