# The dispatcher board: npm packages from the lock file, built by Vite (no CDN at run time).
FROM node:20-slim AS board
WORKDIR /src/board
COPY board/package.json board/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY board/ ./
RUN npm run build

FROM python:3.11-slim
# fonts: the PDF report embeds DejaVu Sans and a TrueType CJK font with Chinese and Hangul glyphs.
RUN apt-get update && apt-get install -y --no-install-recommends mosquitto-clients fonts-dejavu-core fonts-wqy-zenhei \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY dispatch dispatch
COPY technician_api technician_api
COPY routing routing
COPY device_gateway device_gateway
COPY migrations migrations
COPY --from=board /src/dispatch/board/static dispatch/board/static
RUN pip install --no-cache-dir .
RUN useradd --system onsite24 && mkdir -p /app/var && chown onsite24 /app/var
USER onsite24
EXPOSE 8024
CMD ["onsite24", "serve", "--host", "0.0.0.0"]
