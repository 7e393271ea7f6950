# The losswatch server: built with Maven, run on a JRE. docker-compose.yml builds it as the "losswatch" service.
#   docker build -t losswatch .
#   docker run -e LOSSWATCH_TOKEN=$(openssl rand -hex 16) -p 127.0.0.1:8080:8080 losswatch
# In the container the server listens on every interface, so it needs a token: changes (POST, DELETE) must carry
# "Authorization: Bearer $LOSSWATCH_TOKEN"; without LOSSWATCH_TOKEN it refuses to start. Publish the port on
# 127.0.0.1 unless others should reach it. Requests must name localhost, a loopback or a container address as
# their Host, or a name allowed with --allow-host (arguments after the image replace CMD, so repeat it whole:
# docker run ... losswatch --host 0.0.0.0 --port 8080 --data-dir /data --allow-host my.host).
FROM maven:3-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
COPY src ./src
RUN mvn -B -q package -DskipTests

FROM eclipse-temurin:17-jre
RUN useradd --system --uid 10001 --home-dir /app losswatch && mkdir -p /app /data && chown losswatch /data
WORKDIR /app
COPY --from=build /src/target/losswatch.jar /app/losswatch.jar
USER losswatch
EXPOSE 8080
VOLUME /data
ENTRYPOINT ["java", "-jar", "/app/losswatch.jar"]
CMD ["--host", "0.0.0.0", "--port", "8080", "--data-dir", "/data"]
