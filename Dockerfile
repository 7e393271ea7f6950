# The losswatch server: built with Maven, run on a JRE. docker-compose.yml builds it as the "losswatch" service.
#   docker build -t losswatch . && docker run -p 8080:8080 losswatch
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
# In a container the server must listen on every interface, not the default 127.0.0.1; that needs a token
# (docker run -e LOSSWATCH_TOKEN=...) or, as here, --insecure: anyone who reaches the port may change runs.
CMD ["--host", "0.0.0.0", "--port", "8080", "--data-dir", "/data", "--insecure"]
