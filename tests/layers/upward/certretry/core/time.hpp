// Fixture for the layer check: core must not include backoff.
#pragma once
#include "certretry/backoff/schedule.hpp"
