"""Where photo bytes live: one `Storage` interface (`put`, `get`, `delete` by key), on local disk or in a
bucket of an S3-compatible store, chosen by `ONSITE24_STORAGE_BACKEND`.
"""
