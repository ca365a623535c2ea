"""docker-compose.yml and the Dockerfile, read as files (no Docker here): more than one web process
and a worker service per queue, nothing shared through a local disk, uploads in MinIO."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def _app_services(compose: dict[str, Any]) -> dict[str, Any]:
    return {n: s for n, s in compose["services"].items() if s.get("image") == "satu-untuk-satu:latest"}


def test_every_queue_has_a_worker_service_of_its_own():
    queues = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {settings.CELERY_TASK_DEFAULT_QUEUE}
    served: dict[str, str] = {}
    for name, service in _app_services(_compose()).items():
        command = str(service.get("command", ""))
        if " worker " in f" {command} ":
            listened = command.split(" -Q ", 1)[1].split()[0].split(",")
            assert len(listened) == 1, f"{name} takes more than one queue: {listened}"
            served[listened[0]] = name
    assert set(served) == queues


def test_web_scales_and_beat_does_not():
    services = _compose()["services"]
    assert int(str(services["web"]["deploy"]["replicas"]).strip("${}").split(":-")[-1]) >= 2
    assert "ports" not in services["web"] and "container_name" not in services["web"]
    assert services["beat"]["deploy"]["replicas"] == 1
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    assert "dynamic a" in caddyfile and "name web" in caddyfile


def test_uploads_are_in_minio_and_no_app_service_shares_a_disk():
    compose = _compose()
    for name, service in _app_services(compose).items():
        environment = service["environment"]
        assert environment["AWS_STORAGE_BUCKET_NAME"] == "satu-media", name
        assert environment["AWS_S3_ENDPOINT_URL"] == "http://minio:9000", name
        assert not service.get("volumes"), f"{name} mounts {service.get('volumes')}"
    assert compose["services"]["web"]["depends_on"]["minio-init"] == {"condition": "service_completed_successfully"}
    init = " ".join(compose["services"]["minio-init"]["command"])
    assert "mc mb --ignore-existing satu/satu-media" in init and "anonymous set none" in init
    policy = json.loads((ROOT / "deploy" / "minio" / "satu-media-policy.json").read_text(encoding="utf-8"))
    resources = {r for statement in policy["Statement"] for r in statement["Resource"]}
    assert resources == {"arn:aws:s3:::satu-media", "arn:aws:s3:::satu-media/*"}


def test_the_replica_is_optional_and_its_role_is_made_with_the_database():
    services = _compose()["services"]
    assert services["postgres-replica"]["profiles"] == ["replica"]
    assert services["web"]["environment"]["DATABASE_REPLICA_URL"] == "${DATABASE_REPLICA_URL:-}"
    script = ROOT / "deploy" / "postgres-init" / "20-replication.sh"
    assert script.stat().st_mode & 0o111
    assert "REPLICATION" in script.read_text(encoding="utf-8")


def test_the_image_installs_the_runtime_dependencies_only():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    installs = [line.strip() for line in dockerfile.splitlines() if "pip install" in line]
    assert installs == ["RUN pip install ."]
