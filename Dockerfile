# dmstack in a container: `--serve` on the demo stack, every device exported over NBD on port 10809.
#
#   docker build -t dmstack .
#   docker run --rm -p 10809:10809 dmstack
#   nbdinfo --list nbd://127.0.0.1:10809
#
# Your own stack: mount a config folder over /opt/dmstack/etc (keep an nbd.cfg with
# address = 0.0.0.0 in it, or the export listens only inside the container).

FROM eclipse-temurin:25-jdk AS build
RUN apt-get update && apt-get install -y --no-install-recommends curl unzip && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN ./mvnw -B -q -DskipTests package -pl launcher -am

FROM eclipse-temurin:25-jdk
COPY --from=build /src/launcher/target/dmstack-*.tar.gz /tmp/
RUN tar xzf /tmp/dmstack-*.tar.gz -C /opt \
    && mv /opt/dmstack-* /opt/dmstack \
    && rm /tmp/dmstack-*.tar.gz \
    && printf 'address = 0.0.0.0\nport = 10809\n' > /opt/dmstack/etc/nbd.cfg \
    && useradd --system --no-create-home --home-dir /opt/dmstack dmstack \
    && chown -R dmstack /opt/dmstack
USER dmstack
EXPOSE 10809
ENTRYPOINT ["/opt/dmstack/bin/dmstack"]
CMD ["--serve"]
