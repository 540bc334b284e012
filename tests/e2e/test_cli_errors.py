from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from stonkmarket.interfaces.cli.main import cli


def test_unknown_ticker_is_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["signal", "NOPE"], env={"DATA_DIR": str(tmp_path)}
    )

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "Error: no prices recorded for NOPE"
    assert "Traceback" not in result.output


def test_file_as_data_dir_is_explained(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")

    result = CliRunner().invoke(cli, ["rank"], env={"DATA_DIR": str(not_a_folder)})

    assert result.exit_code == 1
    assert f"cannot use the data folder '{not_a_folder}'" in result.stderr
    assert result.stderr.rstrip().endswith("set DATA_DIR to a writable folder")


def test_non_ascii_digits_in_port_are_refused() -> None:
    result = CliRunner().invoke(cli, ["rank"], env={"PORT": "²"})

    assert result.exit_code == 2
    assert "PORT must be a number from 1 to 65535, got '²'" in result.stderr


def test_worker_without_shared_servers_is_explained(tmp_path: Path) -> None:
    for command in ("worker", "scheduler"):
        result = CliRunner().invoke(
            cli,
            [command],
            env={
                "DATA_DIR": str(tmp_path),
                "VALKEY_URL": "redis://127.0.0.1:6379/15",
                "DATABASE_URL": "",
            },
        )

        assert result.exit_code == 2
        assert f"{command} needs DATABASE_URL and VALKEY_URL" in result.stderr
        assert "runs the jobs and their schedule in its own process" in result.stderr


def test_worker_with_unreachable_database_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["worker"],
        env={
            "DATA_DIR": str(tmp_path),
            "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nothing",
            "VALKEY_URL": "redis://127.0.0.1:6379/15",
        },
    )

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot reach PostgreSQL or Valkey (")
    assert result.stderr.rstrip().endswith(
        "check DATABASE_URL and VALKEY_URL and that both servers answer"
    )
    assert "Traceback" not in result.output
