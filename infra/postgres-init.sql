-- docker-compose only: the schema registry's own database (the local runner creates it itself).
CREATE DATABASE registry;
