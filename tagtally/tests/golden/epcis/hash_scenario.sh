#!/bin/sh
# Writes scenario_hashes.txt: the CBV 2.0 event hash of every event of every scenario_*.jsonld, by
# GS1 Germany's reference implementation (epcis-event-hash-generator, PyPI), one `FILE HASH` line
# per event in document order. Usage (from this directory):
#   python3 -m venv /tmp/eh && /tmp/eh/bin/pip install epcis-event-hash-generator==1.9.3
#   PYTHON=/tmp/eh/bin/python ./hash_scenario.sh
set -eu
PYTHON=${PYTHON:-python3}
version=$("$PYTHON" -m pip show epcis-event-hash-generator | sed -n 's/^Version: //p')
{
    echo "# CBV 2.0 event hashes of the scenario_*.jsonld documents, one \`FILE HASH\` line per event in order,"
    echo "# by epcis-event-hash-generator $version (PyPI): PYTHON=... ./hash_scenario.sh (see README.md)"
    for file in scenario_*.jsonld; do
        "$PYTHON" -m epcis_event_hash_generator -e JSON "$file" | grep '^ni:///' | sed "s|^|$file |"
    done
} > scenario_hashes.txt
