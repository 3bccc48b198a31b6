//! Parquet files through Arrow (feature `parquet`).

use std::path::Path;

use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::{FrameError, Result};
use crate::frame::DataFrame;

impl DataFrame {
    /// Writes the frame as a Parquet file (via [`DataFrame::to_arrow`]).
    pub fn write_parquet(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let batch = self.to_arrow()?;
        let file = std::fs::File::create(path).map_err(|source| FrameError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let mut writer = ArrowWriter::try_new(file, batch.schema(), None)
            .map_err(|e| FrameError::Parquet(e.to_string()))?;
        writer
            .write(&batch)
            .map_err(|e| FrameError::Parquet(e.to_string()))?;
        writer
            .close()
            .map_err(|e| FrameError::Parquet(e.to_string()))?;
        Ok(())
    }

    /// Reads a Parquet file (via [`DataFrame::from_arrow`]).
    pub fn read_parquet(path: impl AsRef<Path>) -> Result<DataFrame> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|source| FrameError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.build())
            .map_err(|e| FrameError::Parquet(e.to_string()))?;
        let batches = reader
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| FrameError::Parquet(e.to_string()))?;
        DataFrame::from_arrow_batches(&batches)
    }
}
