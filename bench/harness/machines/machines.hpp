// The machines the harness replays, one file each in this folder.
#pragma once

#include "../machine.hpp"

namespace certretry::harness {

machine_adapter acme_new_order_machine();
machine_adapter acme_poll_machine();
machine_adapter acme_post_machine();
machine_adapter ari_renewal_machine();
machine_adapter async_poll_machine();
machine_adapter tpp_enroll_machine();

}  // namespace certretry::harness
