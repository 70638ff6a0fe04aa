"""RMR message types used by LinkFM (PROTOCOLS.md section 1).

Names match the OSC RIC message-type names used in route tables and in the xApp
descriptor's ``rxMessages``/``txMessages`` lists.
"""

from __future__ import annotations

from enum import IntEnum


class MessageType(IntEnum):
    RIC_HEALTH_CHECK_REQ = 100
    RIC_HEALTH_CHECK_RESP = 101
    RMRRM_TABLE_DATA = 20  # route table pushed by the Route Manager
    RMRRM_REQ_TABLE = 21  # ask the Route Manager for a table
    RMRRM_TABLE_STATE = 22  # acknowledge a pushed table
    E2_SETUP_REQ = 12001  # E2T <-> E2 manager in OSC; E2 node <-> mini-RIC here
    E2_SETUP_RESP = 12002
    E2_SETUP_FAILURE = 12003
    RIC_SUB_REQ = 12010
    RIC_SUB_RESP = 12011
    RIC_SUB_FAILURE = 12012
    RIC_SUB_DEL_REQ = 12020
    RIC_SUB_DEL_RESP = 12021
    RIC_SUB_DEL_FAILURE = 12022
    RIC_CONTROL_REQ = 12040
    RIC_CONTROL_ACK = 12041
    RIC_CONTROL_FAILURE = 12042
    RIC_INDICATION = 12050
    A1_POLICY_REQ = 20010
    A1_POLICY_RESP = 20011
    A1_POLICY_QUERY = 20012
    # This project's block (unused by OSC): the recommendation batch and its acknowledgement.
    LINKFM_RECOMMENDATION = 30100
    LINKFM_RECOMMENDATION_ACK = 30101


NO_SUB_ID = -1
"""sub_id carried by messages that belong to no subscription."""

RMR_DATA_PORT = 4560
RMR_ROUTE_PORT = 4561
HTTP_PORT = 8080
