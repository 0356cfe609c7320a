"""``python -m huffkit.cli``: the same as the ``huffkit`` command."""

from huffkit.cli import main

if __name__ == "__main__":
    main(prog_name="huffkit")
