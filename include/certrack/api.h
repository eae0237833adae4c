#ifndef CERTRACK_API_H
#define CERTRACK_API_H
/*
 * The daemon's routes: one table (method, pattern, roles, handler) built
 * from each resource file's handlers.
 */
#include <stddef.h>

#include "certrack/migrate.h"
#include "certrack/router.h"

/* The whole route table and its length. */
extern const struct route api_routes[];
extern const size_t api_nroutes;

/* Gives the health handlers the migrations the schema must match. */
void api_health_init(const struct migration_set *set);

/* Handlers, one group per resource file. */
int api_healthz(struct request *req);
int api_readyz(struct request *req);

#endif
