// Package cluster lets several televisit nodes share one PostgreSQL: each
// node holds a lease row in cluster_nodes, and each visit's media room is
// placed on exactly one node in room_placements. Place decides where a room
// lives, Run keeps the lease alive and reports rooms this node lost, and
// Proxy forwards a /ws request that names another live node to that node.
//
// Liveness is always judged by the database clock (lease_until > now()),
// never by a node's own clock. Neither table holds PHI.
package cluster
