"""The lease: two workers never work one job at once; a worker whose lease ran out and was taken
over commits nothing more; the next worker resumes after the last committed chunk."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from modules.jobs import services
from modules.jobs.models import BulkJob
from modules.jobs.worker import run_job
from modules.shipping.models import ShippingItem
from tests.shipping.factories import emitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(small_chunks):
    return services.job_create(
        kind="shipping.importItems", rows=[{"sku": f"S{n}"} for n in range(8)], options={}
    )


def test_a_second_worker_cannot_claim_a_job_while_the_first_holds_it(job):
    assert services.job_claim(worker="a") == job.uuid
    assert services.job_claim(worker="b") is None
    assert services.job_claim(worker="b", job_uuid=job.uuid) is None


def test_a_worker_whose_lease_was_taken_over_commits_nothing_more(job):
    services.job_claim(worker="a")
    services.job_run_chunk(job_uuid=job.uuid, worker="a")  # rows 1-3, committed
    BulkJob.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(1))
    assert services.job_claim(worker="b") == job.uuid
    with pytest.raises(services.LeaseLost):
        services.job_run_chunk(job_uuid=job.uuid, worker="a")
    finished = run_job(job.uuid, "b")
    # attempts counts claims since the last committed chunk: b's, which then made progress.
    assert (finished.status, finished.processed, finished.attempts) == ("SUCCEEDED", 8, 1)
    # Each row once: items and their events.
    assert sorted(ShippingItem.objects.values_list("sku", flat=True)) == [f"S{n}" for n in range(8)]
    assert len(emitted("ShippingItemCreated")) == 8


def test_a_job_given_back_at_every_shutdown_still_succeeds(job, settings):
    settings.JOBS_MAX_ATTEMPTS = 1  # a clean give-back must not count as an attempt at all
    stopping = threading.Event()
    stopping.set()  # each worker stops after one chunk and gives the job back
    restarts = 0
    while services.job_claim(worker=f"w{restarts}") == job.uuid:
        run_job(job.uuid, f"w{restarts}", stopping=stopping)
        restarts += 1
    job.refresh_from_db()
    assert (job.status, job.processed, restarts) == ("SUCCEEDED", 8, 3)  # 3 chunks of 3 rows
    assert not job.row_errors.exists()


def test_crashes_on_different_chunks_do_not_add_up(job, settings):
    settings.JOBS_MAX_ATTEMPTS = 2
    for chunk in range(3):  # a crash (lease run out) before each chunk, then the chunk done
        services.job_claim(worker=f"crashed{chunk}")
        BulkJob.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(1))
        services.job_claim(worker=f"w{chunk}")
        services.job_run_chunk(job_uuid=job.uuid, worker=f"w{chunk}")
    job.refresh_from_db()
    assert (job.status, job.processed) == ("SUCCEEDED", 8)


def test_a_job_whose_workers_keep_failing_ends_failed(job, settings):
    settings.JOBS_MAX_ATTEMPTS = 2
    for attempt in range(3):
        assert services.job_claim(worker=f"w{attempt}") == job.uuid
        BulkJob.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(1))
    finished = services.job_run_chunk(job_uuid=job.uuid, worker="w2")
    assert finished.status == "FAILED"
    assert list(finished.row_errors.values_list("row_number", "code")) == [(1, "WORKER_FAILED")]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_job_apply_each_row_once(small_chunks):
    import threading

    from django.db import connection, connections

    from modules.jobs.worker import work_available

    if connection.vendor != "postgresql":
        pytest.skip("threads share no in-memory SQLite database; PostgreSQL has real row locks")
    job = services.job_create(
        kind="shipping.importItems", rows=[{"sku": f"R{n}"} for n in range(60)], options={}
    )
    barrier = threading.Barrier(2)
    ran: list[int] = []

    def work(name: str) -> None:
        try:
            barrier.wait()
            ran.append(work_available(name))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(f"racer-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(ran) == [0, 1]  # one claimed the job, the other found nothing to take
    job.refresh_from_db()
    assert (job.status, job.processed, job.attempts) == ("SUCCEEDED", 60, 1)
    assert ShippingItem.objects.count() == 60
    assert len(emitted("ShippingItemCreated")) == 60


def test_a_worker_shutting_down_gives_the_job_back_after_its_current_chunk(job):
    import threading

    stopping = threading.Event()
    stopping.set()
    assert services.job_claim(worker="a") == job.uuid
    left = run_job(job.uuid, "a", stopping=stopping)
    assert (left.status, left.processed) == ("RUNNING", 3)
    # No lease to wait out: the next worker takes it at once and resumes at row 4.
    assert services.job_claim(worker="b") == job.uuid
    assert run_job(job.uuid, "b").processed == 8
    assert ShippingItem.objects.count() == 8
