# Multi-stage image: build a wheel with its dependencies, run as a non-root user.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir --upgrade pip \
 && pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 stonkmarket
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER stonkmarket
WORKDIR /home/stonkmarket
ENV DATA_DIR=/data HOST=0.0.0.0 PORT=8000 LOG_FORMAT=json
EXPOSE 8000
CMD ["stonkmarket", "serve"]
