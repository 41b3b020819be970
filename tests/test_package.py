import subprocess
import sys

import skal


def test_import_skal_does_not_import_tensorflow():
    code = (
        "import sys, skal, skal.strategies, skal.evaluation;"
        "heavy = [m for m in ('tensorflow', 'keras', 'scikeras', 'matplotlib')"
        " if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_names_resolve():
    assert skal.CNNClassifier.__name__ == "CNNClassifier"
    assert "ActiveLearningClassifier" in dir(skal)


def test_cli_help():
    out = subprocess.run(
        [sys.executable, "-m", "skal", "demo", "--help"], capture_output=True, text=True,
        check=True,
    )
    assert "--seeds" in out.stdout and "digits" in out.stdout
