# The Puhui services image, for docker-compose.yml (the local stack without Docker is `puhui stack`).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY puhui ./puhui
COPY engine ./engine
COPY schemas ./schemas
COPY services ./services
RUN pip install --no-cache-dir .
ENTRYPOINT ["puhui"]
