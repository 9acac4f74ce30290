# The two commands of the README:
#   make run    install what the main job needs from this repo's pinned files, then run it end to end
#   make test   install that and the developer tools, then lint and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.install-stamp
# The developer tools (pytest, ruff, sqlfluff, playwright): make test and make lint install them.
DEV_STAMP := $(VENV)/.install-dev-stamp
# The optional extra for the Spark target (dbt-spark's session method, pyspark); the tests' Spark parity
# build needs it and Java 17.
SPARK_STAMP := $(VENV)/.install-spark-stamp
# Every SQL file of the dbt project: models, macros (with the generic tests in macros/tests) and the
# singular tests. tests/test_lint.py checks that these cover every .sql file.
SQL_PATHS := models macros tests/dbt

.PHONY: install install-dev install-spark java browser mcp-servers run test lint clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e .
	touch $(STAMP)

install-dev: $(DEV_STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(DEV_STAMP)

install-spark: $(SPARK_STAMP)

$(SPARK_STAMP): $(DEV_STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,spark]'
	touch $(SPARK_STAMP)

run: install
	$(BIN)/sales-insights run

lint: install-dev
	$(BIN)/ruff check scripts tests lint
	$(BIN)/sqlfluff lint $(SQL_PATHS)

# The report's test renders the page in Debian's chromium; as root, install it when it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
	    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }; \
	  else echo "chromium is missing: install it (apt-get install chromium) for the report's browser test"; fi; }

# Spark runs on Java 17; as root, install Debian's headless JRE when java is missing.
java:
	@command -v java >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q openjdk-17-jre-headless >/dev/null \
	    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q openjdk-17-jre-headless >/dev/null; } \
	    || echo "could not install Java 17: the Spark tests will be skipped"; \
	  else echo "java is missing: install Java 17 (apt-get install openjdk-17-jre-headless) for the Spark parity test"; fi; }

# The public Shopify MCP servers the connector tests run (tests/mcp_servers: npm packages pinned by its
# package-lock.json), on Node.js; as root, install Debian's nodejs and npm when node is missing.
MCP_SERVERS := tests/mcp_servers
MCP_STAMP := $(MCP_SERVERS)/node_modules/.install-stamp

mcp-servers: $(MCP_STAMP)

$(MCP_STAMP): $(MCP_SERVERS)/package.json $(MCP_SERVERS)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >/dev/null \
	    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >/dev/null; }; \
	  else echo "node is missing: install Node.js 18+ and npm for the tests against public MCP servers"; fi; }
	command -v npm >/dev/null 2>&1 && npm ci --prefix $(MCP_SERVERS) --no-audit --no-fund --ignore-scripts --loglevel=error \
	  && touch $(MCP_STAMP) || echo "the public MCP servers are not installed: their tests will be skipped"

# The suite runs on TEST_WORKERS processes (pytest-xdist), each taking whole test files, so that a file's
# shared warehouses are built once; the heaviest files start first (tests/conftest.py).
TEST_WORKERS ?= 2

test: lint browser java mcp-servers install-spark
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

clean:
	rm -rf target logs warehouse/*.duckdb* .pytest_cache
