// Fixture for the layer check: tpp must not include acme (same layer).
#pragma once
#include <certretry/acme/reply.hpp>
