from services.runtime import run

from .app import create

if __name__ == "__main__":  # not when a worker process imports this module
    run(create)
