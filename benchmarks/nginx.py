"""The frame of every nginx configuration run locally by the benchmarks and the deploy tests:
one worker process whose pid, error log and temporary files live in one folder, and no
access log. What differs — upstreams, servers, maps — goes in the ``http`` block."""


def nginx_conf(
    folder, http: str, *, connections: int, error_level: str = "warn", files: int | None = None
) -> str:
    """nginx.conf for ``folder`` with ``http`` inside its http block; ``files``: the worker's
    open-file limit, when the default is too low for ``connections``."""
    limit = f"worker_rlimit_nofile {files};\n" if files else ""
    return f"""worker_processes 1;
{limit}pid {folder}/nginx.pid;
error_log {folder}/error.log {error_level};
events {{ worker_connections {connections}; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
{http}
}}
"""
