"""The planner's workbench behind both the JSON API and the pages: what a job request may ask
(requests.py), starting, listing, cancelling and re-running jobs and reading their files
(service.py), and the `cho worker` process that runs them (worker.py). Sits over `market/`
(the job rows) and `simulator/` (the engine); `api/` and `web/` call it, never the other way."""
