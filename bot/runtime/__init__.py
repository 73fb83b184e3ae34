"""aiogram plumbing: polling, retries, the platform boundary, middlewares, who is staff."""
