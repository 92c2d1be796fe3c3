# Debian's Redis on the project's base image, with the official image's interface (redis-server
# on PATH, data in /data). Seeded by build-support/bin/seed-infra-bases: apt needs the network,
# which `pants package` builds lack.
# Few instructions: on the vfs storage driver each one copies the whole file system.
FROM python:3.11-slim-bookworm
# A new volume takes the owner of the image's directory.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data && chown redis:redis /data
WORKDIR /data
USER redis
EXPOSE 6379
CMD ["redis-server", "--appendonly", "yes"]
