"""The PostgreSQL URL Dagster builds from `postgres_db` finds its driver (decision 56)."""

from dagster_postgres.utils import create_pg_engine, get_conn_string


def test_the_url_built_from_postgres_db_uses_psycopg2():
    # The form Dagster's docs give: username, password, hostname, db_name, port, no scheme.
    url = get_conn_string(
        username="dagster", password="p@ss:w/rd%", hostname="db", db_name="dagster", port="5432"
    )
    assert url.startswith("postgresql://")

    engine = create_pg_engine(url)  # imports the dialect's driver; connects to nothing

    assert engine.dialect.driver == "psycopg2"
    assert engine.url.password == "p@ss:w/rd%"
