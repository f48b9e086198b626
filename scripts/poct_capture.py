"""CLSI POCT1-A2 device conversation on loopback: a point-of-care device
(client) and a data manager (server), each a small socket program speaking
the POCT1-A2 device messaging layer in its conversation order:

    device: HEL.R01  -> manager: ACK.R01      (hello, device identity)
    device: DST.R01  -> manager: ACK.R01      (device status)
    manager: REQ.R01 (topic OBS)              (request the observations)
    device: OBS.R01  -> manager: ACK.R01      (patient observation)
    device: OBS.R02  -> manager: ACK.R01      (QC observation)
    device: EOT.R01  -> manager: ACK.R01      (end of topic)
    manager: END.R01 -> device: ACK.R01       (end of conversation)

No independent open-source POCT1-A2 implementation is packaged for PyPI,
npm, Debian or Maven (checked 2026-12), so the messages are replayed rather
than produced by one. Their element names, nesting and `V="..."` value
attributes follow the standard's device messaging layer as reproduced in
public vendor manuals: Roche cobas Liat Host Interface Manual POCT1-A (DML)
version 6.0 (https://documents.pub/document/host-interface-manual-poct1-a-dml-version-6.html)
and the Nova Biomedical StatStrip HEL.R01 example ("DML interface
specification 6.2.4") quoted in a public Java test, DmlTcpServerTest.java
(package com.nova.bioconnect.device.protocol). Device identity values are
made up; the observation messages carry planted CANARY patient data (id,
name, birth date, result values, operator id) that Ward must never keep.
Messages are sent in several writes, so they cross TCP segment boundaries.

Usage: poct_capture.py server PORT | client PORT
"""

import socket
import sys
import time

# The data manager listens on 127.0.0.2; the device connects from 127.0.0.1.
HOST = "127.0.0.2"


def hdr(kind, control_id, when):
    return (f'<HDR><HDR.message_type V="{kind}" SN="POCT1" SV="1"/>'
            f'<HDR.control_id V="{control_id}"/>'
            f'<HDR.version_id V="POCT1"/>'
            f'<HDR.creation_dttm V="{when}"/></HDR>')


HEL = ('<?xml version="1.0" encoding="UTF-8"?>\r\n<HEL.R01>'
       + hdr("HEL.R01", "1001", "2026-12-06T10:00:00-05:00")
       + '<DEV><DEV.device_id V="GLU-ICU4-07"/>'
       '<DEV.vendor_id V="ACMEPOC"/>'
       '<DEV.model_id V="GlucoStat 300"/>'
       '<DEV.serial_id V="GS3-0042-1187"/>'
       '<DEV.manufacturer_name V="Acme Point of Care"/>'
       '<DEV.hw_version V="B2"/>'
       '<DEV.sw_version V="4.12.7"/>'
       '<DEV.device_name V="ICU4 meter 7"/>'
       '<DCP><DCP.application_timeout V="120"/></DCP>'
       '<DSC><DSC.connection_profile_cd V="SA"/>'
       '<DSC.topics_supported_cd V="OPL"/>'
       '<DSC.directives_supported_cd V="START_CONTINUOUS"/>'
       '<DSC.max_message_sz V="32768"/></DSC></DEV></HEL.R01>')

DST = ('<DST.R01>' + hdr("DST.R01", "1002", "2026-12-06T10:00:01-05:00")
       + '<DST><DST.status_dttm V="2026-12-06T10:00:01-05:00"/>'
       '<DST.condition_cd V="R"/>'
       '<DST.new_observations_qty V="2"/></DST></DST.R01>')

OBS1 = ('<OBS.R01>' + hdr("OBS.R01", "1003", "2026-12-06T10:00:02-05:00")
        + '<SVC><SVC.role_cd V="OBS"/>'
        '<SVC.observation_dttm V="2026-12-06T09:58:54-05:00"/>'
        '<SVC.status_cd V="NRM"/>'
        '<PT><PT.patient_id V="PT-CANARY-5513"/>'
        '<PT.name V="CanaryPatient5513"/>'
        '<PT.birth_date V="19030517"/>'
        '<PT.location V="CANARYWARD5513^ICU-4"/>'
        '<OBS><OBS.observation_id V="2341-6" DN="Glu" SN="LN"/>'
        '<OBS.value V="7.77" U="CANARYRESULT5513"/>'
        '<OBS.method_cd V="M"/><OBS.status_cd V="A"/>'
        '<OBS.interpretation_cd V="HH"/>'
        '<OBS.normal_lo-hi_limit V="[4.1;5.9]" U="mmol/L"/></OBS>'
        '<NTE><NTE.text V="CANARYNOTE5513 hemolysed"/></NTE></PT>'
        '<OPR><OPR.operator_id V="OPR-CANARY-5513"/>'
        '<OPR.name V="CanaryOperator5513"/></OPR></SVC></OBS.R01>')

OBS2 = ('<OBS.R02>' + hdr("OBS.R02", "1004", "2026-12-06T10:00:03-05:00")
        + '<SVC><SVC.role_cd V="LQC"/>'
        '<SVC.observation_dttm V="2026-12-06T08:00:00-05:00"/>'
        '<CTC><CTC.name V="GLU CONTROL L2"/><CTC.lot_number V="LOT-7781"/>'
        '<CTC.level_cd V="N"/>'
        '<OBS><OBS.observation_id V="2341-6" DN="Glu" SN="LN"/>'
        '<OBS.value V="5.55" U="mmol/L"/><OBS.status_cd V="A"/></OBS></CTC>'
        '<OPR><OPR.operator_id V="OPR-CANARY-5513"/></OPR>'
        '</SVC></OBS.R02>')

EOT = ('<EOT.R01>' + hdr("EOT.R01", "1005", "2026-12-06T10:00:04-05:00")
       + '<EOT><EOT.topic_cd V="OBS"/></EOT></EOT.R01>')


def ack(control_id, acked):
    return ('<ACK.R01>' + hdr("ACK.R01", control_id, "2026-12-06T10:00:05-05:00")
            + f'<ACK><ACK.type_cd V="AA"/><ACK.ack_control_id V="{acked}"/>'
            '</ACK></ACK.R01>')


REQ = ('<REQ.R01>' + hdr("REQ.R01", "9002", "2026-12-06T10:00:01-05:00")
       + '<RQT><RQT.request_cd V="ROBS"/></RQT></REQ.R01>')
END = ('<END.R01>' + hdr("END.R01", "9009", "2026-12-06T10:00:06-05:00")
       + '<TRM><TRM.reason_cd V="NRM"/></TRM></END.R01>')


def send(sock, text, pieces=3):
    data = text.encode()
    step = max(1, len(data) // pieces + 1)
    for i in range(0, len(data), step):
        sock.sendall(data[i:i + step])
        time.sleep(0.02)


def read_message(sock, buf):
    """Reads one whole message (up to its root's end tag); returns (root, rest)."""
    while True:
        text = buf.decode(errors="replace")
        start = text.find("<", text.find("?>") + 2 if text.startswith("<?xml") else 0)
        if start >= 0:
            name = text[start + 1:].split(">", 1)[0].split()[0] if ">" in text[start:] else None
            if name:
                end = text.find(f"</{name}>")
                if end >= 0:
                    end += len(name) + 3
                    return name, buf[len(text[:end].encode()):]
        chunk = sock.recv(4096)
        if not chunk:
            raise EOFError("peer closed")
        buf += chunk


def server(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((HOST, port))
    ls.listen(1)
    conn, _ = ls.accept()
    buf = b""
    control = 9100
    while True:
        try:
            name, buf = read_message(conn, buf)
        except EOFError:
            break
        control += 1
        if name == "ACK.R01":
            conn.close()
            break
        send(conn, ack(control, name), 1)
        if name == "DST.R01":
            send(conn, REQ, 1)
        elif name == "EOT.R01":
            send(conn, END, 1)
    ls.close()


def client(port):
    sock = socket.create_connection((HOST, port))
    buf = b""
    for msg in (HEL, DST):
        send(sock, msg)
        name, buf = read_message(sock, buf)
        assert name == "ACK.R01", name
    name, buf = read_message(sock, buf)
    assert name == "REQ.R01", name
    for msg in (OBS1, OBS2, EOT):
        send(sock, msg)
        name, buf = read_message(sock, buf)
        assert name == "ACK.R01", name
    name, buf = read_message(sock, buf)
    assert name == "END.R01", name
    send(sock, ack(1006, "9009"), 1)
    time.sleep(0.2)
    sock.close()


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    {"server": server, "client": client}[mode](port)


if __name__ == "__main__":
    main()
