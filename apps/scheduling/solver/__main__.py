"""``python -m apps.scheduling.solver FILE --time-limit S --workers N ...``"""

from .cli import main

main()
